"""Graph data: schemas, tables and data sets to validated GraphTensors."""

from tfgraphtune.data.cleaning import CleaningReport as CleaningReport
from tfgraphtune.data.cleaning import Compose as Compose
from tfgraphtune.data.cleaning import DropDanglingEdges as DropDanglingEdges
from tfgraphtune.data.cleaning import DropDuplicateEdges as DropDuplicateEdges
from tfgraphtune.data.cleaning import DropDuplicateNodes as DropDuplicateNodes
from tfgraphtune.data.cleaning import DropSelfLoops as DropSelfLoops
from tfgraphtune.data.cleaning import FilterNodes as FilterNodes
from tfgraphtune.data.cleaning import MakeUndirected as MakeUndirected
from tfgraphtune.data.cleaning import NormalizeFeatures as NormalizeFeatures
from tfgraphtune.data.cleaning import StepReport as StepReport
from tfgraphtune.data.errors import ValidationError as ValidationError
from tfgraphtune.data.graph_tables import GraphTables as GraphTables
from tfgraphtune.data.schema import load_schema as load_schema
from tfgraphtune.data.tables import graph_from_arrays as graph_from_arrays
from tfgraphtune.data.tables import graph_from_tables as graph_from_tables
from tfgraphtune.data.tables import read_table as read_table
from tfgraphtune.data.tables import tables_from_graph as tables_from_graph
from tfgraphtune.data.tfrecord import read_graphs as read_graphs
from tfgraphtune.data.tfrecord import write_graphs as write_graphs
from tfgraphtune.data.validation import validate_graph as validate_graph
from tfgraphtune.data.validation import validate_tables as validate_tables

__all__ = [
    "CleaningReport",
    "Compose",
    "DropDanglingEdges",
    "DropDuplicateEdges",
    "DropDuplicateNodes",
    "DropSelfLoops",
    "FilterNodes",
    "GraphTables",
    "MakeUndirected",
    "NormalizeFeatures",
    "StepReport",
    "ValidationError",
    "graph_from_arrays",
    "graph_from_tables",
    "load_schema",
    "read_graphs",
    "read_table",
    "tables_from_graph",
    "validate_graph",
    "validate_tables",
    "write_graphs",
]
