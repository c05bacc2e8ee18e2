"""Exporting fine-tuned models for TF Serving, a serving client, and deploy-time compression."""

from tfgraphtune.serving.client import (
    GrpcClient,
    LocalServing,
    RestClient,
    ServingError,
    dense_inputs_from_graphs,
    dense_inputs_from_tables,
    examples_from_graphs,
    grpc_request,
    outputs_per_graph,
    parse_grpc_response,
    parse_rest_response,
    read_serving_input,
    rest_request_body,
)
from tfgraphtune.serving.compression import MagnitudePruning, QuantizedWeights
from tfgraphtune.serving.export_module import GraphServingModule, ServingInput
from tfgraphtune.serving.exporter import ExportResult, export_model, export_run
from tfgraphtune.serving.guards import ServingLimits
from tfgraphtune.serving.server_config import BatchingParameters

__all__ = [
    "BatchingParameters",
    "ExportResult",
    "GraphServingModule",
    "GrpcClient",
    "LocalServing",
    "MagnitudePruning",
    "QuantizedWeights",
    "RestClient",
    "ServingError",
    "ServingInput",
    "ServingLimits",
    "dense_inputs_from_graphs",
    "dense_inputs_from_tables",
    "examples_from_graphs",
    "export_model",
    "export_run",
    "grpc_request",
    "outputs_per_graph",
    "parse_grpc_response",
    "parse_rest_response",
    "read_serving_input",
    "rest_request_body",
]
