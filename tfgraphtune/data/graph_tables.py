"""`GraphTables`: a graph held as pandas tables, before it becomes a GraphTensor."""

from __future__ import annotations

import dataclasses

import pandas as pd

from tfgraphtune.data.errors import ValidationError


@dataclasses.dataclass
class GraphTables:
    """Node, edge and context tables of one graph.

    Attributes:
      node_sets: Node set name -> table, one row per node. The node id is the column
        named `id_column`, or the DataFrame index when that column is absent. Ids may be
        any hashable value (int, str, tuple); other columns hold node features.
      edge_sets: Edge set name -> table with columns ``source`` and ``target`` (node ids)
        and one column per edge feature.
      context: One row per graph component (one row for one graph) holding the context
        features, or None.
      id_column: The name of the node id column.
      edge_endpoints: Edge set name -> (source node set, target node set). Edge sets not
        listed here connect the only node set, if there is exactly one.

    Example:

    >>> tables = GraphTables(
    ...     node_sets={"paper": pd.DataFrame({"id": ["a", "b"], "label": [0, 1]})},
    ...     edge_sets={"cites": pd.DataFrame({"source": ["a"], "target": ["b"]})},
    ... )
    >>> tables.endpoints("cites")
    ('paper', 'paper')
    """

    node_sets: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    edge_sets: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    context: pd.DataFrame | None = None
    id_column: str = dataclasses.field(default="id", kw_only=True)
    edge_endpoints: dict[str, tuple[str, str]] = dataclasses.field(
        default_factory=dict, kw_only=True
    )

    def copy(self) -> GraphTables:
        """Returns a deep copy: changing the copy's tables never changes these."""
        return GraphTables(
            node_sets={name: frame.copy(deep=True) for name, frame in self.node_sets.items()},
            edge_sets={name: frame.copy(deep=True) for name, frame in self.edge_sets.items()},
            context=None if self.context is None else self.context.copy(deep=True),
            id_column=self.id_column,
            edge_endpoints=dict(self.edge_endpoints),
        )

    def node_ids(self, node_set: str) -> pd.Series:
        """Returns the ids of a node set, one per row, with a 0..n-1 index.

        Args:
          node_set: The node set name.

        Returns:
          A Series of node ids in table order.

        Raises:
          ValidationError: There is no table for `node_set`.
        """
        if node_set not in self.node_sets:
            raise ValidationError(
                f"No table for node set '{node_set}'; the tables hold node sets "
                f"{sorted(self.node_sets)}. Pass a table for '{node_set}'.",
                set_name=node_set,
            )
        frame = self.node_sets[node_set]
        if self.id_column in frame.columns:
            ids = frame[self.id_column]
        else:
            ids = frame.index.to_series()
        return ids.reset_index(drop=True).rename(self.id_column)

    def endpoints(self, edge_set: str) -> tuple[str, str]:
        """Returns the (source, target) node set names of an edge set.

        Args:
          edge_set: The edge set name.

        Returns:
          The names of the node sets that ``source`` and ``target`` ids refer to.

        Raises:
          ValidationError: The endpoints are unknown: `edge_set` is not in
            `edge_endpoints` and there is not exactly one node set.
        """
        if edge_set in self.edge_endpoints:
            return tuple(self.edge_endpoints[edge_set])
        if len(self.node_sets) == 1:
            (only,) = self.node_sets
            return only, only
        raise ValidationError(
            f"The node sets that edge set '{edge_set}' connects are unknown; set "
            f"GraphTables.edge_endpoints['{edge_set}'] = (source_set, target_set), or build "
            "the tables with graph_from_tables/tables_from_graph, which fill it in.",
            set_name=edge_set,
        )
