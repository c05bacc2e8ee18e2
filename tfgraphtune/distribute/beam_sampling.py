"""Offline neighbour sampling with TF-GNN's Apache Beam sampler, for graphs bigger than one
machine.

``tfgraphtune sample`` writes the task's graph in TF-GNN's unigraph format (one TFRecord
of ``tf.Example`` per node set and edge set, a GraphSchema naming them), runs TF-GNN's
Beam sampling program over it (`tensorflow_gnn.experimental.sampler.beam`: the same
``SamplingSpec`` as the in-memory `NeighborSampler`, executed as Beam stages; DirectRunner
here, Dataflow or any Beam runner on a cluster) and leaves one serialized GraphTensor per
seed node in ``OUT/samples.tfrecord*``, its schema in ``OUT/graph_schema.pbtxt``. Training
then reads those shards (``data.sampling.samples: OUT``): its memory is one batch of
subgraphs, whatever the size of the graph.

As in `NeighborSampler`, the sampler walks edges from the seed outwards, so the edges are
stored reversed (receiver -> sender) and turned back when a sample is read: each seed gets
the neighbours whose messages reach it. The seed is the first node of its sample (TF-GNN's
convention). The node features written are the preprocessed model input, the label and
the node's split (0 train, 1 validation, 2 test), so a sample carries all a batch needs.

Only TF-GNN's own sampler is run here; what this module adds is the conversion of a
tfgraphtune graph to unigraph files and the reading of the samples back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.distribute.sampling import rooted_message_graph

SPLIT_FEATURE = "_split"
SPLITS = ("train", "validation", "test")
SAMPLES = "samples.tfrecord"
SCHEMA = "graph_schema.pbtxt"
META = "sampling.json"


def _feature(values: np.ndarray) -> tf.train.Feature:
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind == "f":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values.tolist()))
    if values.dtype.kind in "iub":
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[bytes(v) for v in values]))


def write_unigraph(
    folder: Path,
    *,
    node_set: str,
    edge_set: str,
    source: np.ndarray,
    target: np.ndarray,
    features: dict[str, np.ndarray],
) -> tfgnn.GraphSchema:
    """Writes one node set and one edge set (stored reversed) as unigraph TFRecords.

    Args:
      folder: Where ``nodes.tfrecord``, ``edges.tfrecord`` and the schema go.
      node_set: The node set's name.
      edge_set: The edge set's name.
      source: Sender index of each edge.
      target: Receiver index of each edge.
      features: Name -> ``[nodes, ...]`` array (float or integer).

    Returns:
      The unigraph GraphSchema (node features with their dtypes and shapes).
    """
    folder.mkdir(parents=True, exist_ok=True)
    num_nodes = len(next(iter(features.values())))
    schema = tfgnn.GraphSchema()
    nodes = schema.node_sets[node_set]
    nodes.metadata.filename = "nodes.tfrecord"
    for name, values in features.items():
        feature = nodes.features[name]
        feature.dtype = (tf.float32 if values.dtype.kind == "f" else tf.int64).as_datatype_enum
        for size in values.shape[1:]:
            feature.shape.dim.add().size = int(size)
    edges = schema.edge_sets[edge_set]
    edges.source = edges.target = node_set
    edges.metadata.filename = "edges.tfrecord"
    ids = [str(i).encode() for i in range(num_nodes)]
    with tf.io.TFRecordWriter(str(folder / "nodes.tfrecord")) as writer:
        for i in range(num_nodes):
            example = tf.train.Example()
            example.features.feature["#id"].CopyFrom(_feature(np.array([ids[i]], object)))
            for name, values in features.items():
                example.features.feature[name].CopyFrom(_feature(values[i]))
            writer.write(example.SerializeToString())
    with tf.io.TFRecordWriter(str(folder / "edges.tfrecord")) as writer:
        for s, t in zip(np.asarray(source), np.asarray(target)):
            example = tf.train.Example()
            # Reversed: the sampler follows a node's outgoing edges to reach its senders.
            example.features.feature["#source"].CopyFrom(_feature(np.array([ids[t]], object)))
            example.features.feature["#target"].CopyFrom(_feature(np.array([ids[s]], object)))
            writer.write(example.SerializeToString())
    tfgnn.write_schema(schema, str(folder / SCHEMA))
    return schema


def write_seeds(path: Path, seeds: np.ndarray) -> None:
    """A unigraph node table of seed ids (what the Beam sampler's ``input_seeds`` reads)."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for seed in np.asarray(seeds):
            example = tf.train.Example()
            example.features.feature["#id"].CopyFrom(
                _feature(np.array([str(int(seed)).encode()], object))
            )
            writer.write(example.SerializeToString())


def run_beam_sampler(
    schema: tfgnn.GraphSchema,
    graph_dir: Path,
    out: Path,
    *,
    node_set: str,
    edge_set: str,
    fanouts: Sequence[int],
    seeds_path: Path | None = None,
    runner: str = "DirectRunner",
    pipeline_args: Sequence[str] = (),
) -> list[str]:
    """Runs TF-GNN's Beam sampling program; returns the sample files written.

    The steps of TF-GNN's ``sampler/beam/sampler.py`` main, called in-process with our
    schema and spec instead of command-line flags.
    """
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from tensorflow_gnn.data import unigraph
    from tensorflow_gnn.experimental import sampler
    from tensorflow_gnn.experimental.sampler.beam import executor_lib, unigraph_utils
    from tensorflow_gnn.experimental.sampler.beam import sampler as beam_sampler

    builder = tfgnn.sampler.SamplingSpecBuilder(schema).seed(node_set)
    for hop, fanout in enumerate(fanouts):
        builder = builder.sample(int(fanout), edge_set, op_name=f"hop{hop}")
    spec = builder.build()
    model, layers = beam_sampler.get_sampling_model(schema, spec)
    program, artifacts = sampler.create_program(model)
    artifacts_path = out / "artifacts"
    artifacts_path.mkdir(parents=True, exist_ok=True)
    beam_sampler.save_artifacts(artifacts, str(artifacts_path))
    options = PipelineOptions(list(pipeline_args))
    runner_object = beam.runners.DirectRunner() if runner == "DirectRunner" else runner
    with beam.Pipeline(runner=runner_object, options=options) as root:
        feeds = root | unigraph_utils.ReadAndConvertUnigraph(schema, str(graph_dir))
        feeds.update({layer: feeds[name] for layer, name in layers.items()})
        if seeds_path is not None:
            seeds = unigraph_utils.read_seeds(root, str(seeds_path))
        else:
            seeds = unigraph_utils.seeds_from_graph_dict(feeds, spec)
        examples = executor_lib.execute(
            program, {"Input": seeds}, feeds=feeds, artifacts_path=str(artifacts_path)
        )
        writer = unigraph.WriteTable(str(out / SAMPLES))
        if not writer.key_value_format:
            examples = examples | "DropExampleId" >> beam.Values()
        _ = examples | "WriteExamples" >> writer
    return sorted(str(p) for p in out.glob(SAMPLES + "*"))


def sample_node_task_data(
    data, fanouts: Sequence[int], out: Path, *, runner: str = "DirectRunner",
    pipeline_args: Sequence[str] = (),
) -> dict:  # fmt: skip
    """Samples a rooted subgraph for every labelled node of a node task's prepared data.

    Args:
      data: A node task's `TaskData` (preprocessed graph, labels, splits).
      fanouts: Neighbours per hop.
      out: The output folder (samples, their schema, ``sampling.json``).
      runner: A Beam runner name.
      pipeline_args: Extra Beam pipeline options (e.g. ``--direct_num_workers=2``).

    Returns:
      What ``sampling.json`` holds.
    """
    graph = data.inputs
    nodes = graph.node_sets[data.node_set]
    labels = np.asarray(data.source.labels)
    split = np.full(len(labels), -1, np.int64)
    for index, name in enumerate(SPLITS):
        split[np.asarray(data.splits.get(name, []), np.int64)] = index
    features = {
        data.feature: nodes[data.feature].numpy().astype(np.float32),
        data.source.label: labels,
        SPLIT_FEATURE: split,
    }
    adjacency = graph.edge_sets[data.edge_set].adjacency
    graph_dir = out / "graph"
    schema = write_unigraph(
        graph_dir,
        node_set=data.node_set,
        edge_set=data.edge_set,
        source=adjacency.source.numpy(),
        target=adjacency.target.numpy(),
        features=features,
    )
    seeds = np.flatnonzero(split >= 0)
    write_seeds(graph_dir / "seeds.tfrecord", seeds)
    files = run_beam_sampler(
        schema,
        graph_dir,
        out,
        node_set=data.node_set,
        edge_set=data.edge_set,
        fanouts=fanouts,
        seeds_path=graph_dir / "seeds.tfrecord",
        runner=runner,
        pipeline_args=pipeline_args,
    )
    tfgnn.write_schema(schema, str(out / SCHEMA))
    meta = {
        "node_set": data.node_set,
        "edge_set": data.edge_set,
        "feature": data.feature,
        "label": data.source.label,
        "fanouts": [int(k) for k in fanouts],
        "seeds": {name: int((split == i).sum()) for i, name in enumerate(SPLITS)},
        "files": [os.path.basename(f) for f in files],
    }
    (out / META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def read_sampling_meta(folder: str | os.PathLike) -> dict:
    """``sampling.json`` of a folder written by `sample_node_task_data`."""
    path = Path(folder) / META
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        from tfgraphtune.data.errors import ValidationError

        raise ValidationError(
            f"data.sampling.samples: {str(folder)!r} holds no readable {META} ({err}); "
            "write it with `tfgraphtune sample --config ... --out FOLDER`."
        ) from None


def sampled_batches(
    folder: str | os.PathLike, split: str, *, batch_size: int, shuffle: bool, seed: int,
    shard: tuple[int, int] = (0, 1),
) -> tf.data.Dataset:  # fmt: skip
    """Repeating batches ``(merged graph, root rows)`` of one split's samples.

    Args:
      folder: The `sample` output folder.
      split: ``train``, ``validation`` or ``test``.
      batch_size: Samples per batch.
      shuffle: Reshuffle every pass (training).
      seed: The shuffle seed.
      shard: ``(index, count)``: this input pipeline's share of the samples.
    """
    meta = read_sampling_meta(folder)
    folder = Path(folder)
    schema = tfgnn.read_schema(str(folder / SCHEMA))
    spec = tfgnn.create_graph_spec_from_schema_pb(schema)
    node_set, edge_set = meta["node_set"], meta["edge_set"]
    wanted = SPLITS.index(split)
    files = [str(folder / name) for name in meta["files"]]
    dataset = tf.data.TFRecordDataset(files).shard(*reversed(shard))
    dataset = dataset.map(lambda raw: tfgnn.parse_single_example(spec, raw))
    # The root is the first node of its sample; keep the split's roots.
    dataset = dataset.filter(lambda g: g.node_sets[node_set][SPLIT_FEATURE][0] == wanted)
    if shuffle:
        dataset = dataset.shuffle(max(meta["seeds"][split], 1), seed=seed)
    dataset = dataset.repeat().batch(batch_size)

    def merged(graphs):
        graph = graphs.merge_batch_to_components()
        features = dict(graph.node_sets[node_set].features)
        features.pop(SPLIT_FEATURE)
        graph = graph.replace_features(node_sets={node_set: features})
        return rooted_message_graph(graph, node_set, edge_set)

    return dataset.map(merged).prefetch(tf.data.AUTOTUNE)
