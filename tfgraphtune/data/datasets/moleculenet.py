"""MoleculeNet regression sets (ESOL, FreeSolv, Lipophilicity): SMILES to molecular graphs.

Wu et al., "MoleculeNet: a benchmark for molecular machine learning" (Chemical Science
2018). Each CSV row is a molecule (SMILES) with one measured target; RDKit parses the
SMILES (aromaticity, ring closures, charges and implicit hydrogens are RDKit's job: a
hand-written parser would get them wrong) and every atom becomes a node, every bond two
directed edges. Atom features follow the usual GNN featurization (OGB's ``atom_to_feature``
reduced to one-hot blocks): element, degree, formal charge, number of hydrogens,
hybridization, aromaticity, ring membership.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets import locations
from tfgraphtune.data.datasets.dataset import GraphDataset
from tfgraphtune.data.datasets.graph_list import graphs_from_flat_arrays
from tfgraphtune.data.errors import ValidationError

# name -> (file name in ../moleculenet, download URL, SMILES column, target column)
MOLECULENET_SETS = {
    "esol": (
        "ESOL.csv",
        "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/delaney-processed.csv",
        "smiles",
        "measured log solubility in mols per litre",
    ),
    "freesolv": (
        "FreeSolv.csv",
        "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/SAMPL.csv",
        "smiles",
        "expt",
    ),
    "lipophilicity": (
        "Lipophilicity.csv",
        "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/Lipophilicity.csv",
        "smiles",
        "exp",
    ),
}
ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se")
DEGREES = (0, 1, 2, 3, 4, 5)
CHARGES = (-1, 0, 1)
HYDROGENS = (0, 1, 2, 3, 4)
HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
# Bond type ids of the ``bond_type`` edge feature.
BOND_TYPES = {"SINGLE": 0, "DOUBLE": 1, "TRIPLE": 2, "AROMATIC": 3}


def _one_hot(value, choices) -> list[float]:
    """One-hot over `choices` plus a last "other" slot."""
    row = [0.0] * (len(choices) + 1)
    row[choices.index(value) if value in choices else len(choices)] = 1.0
    return row


def atom_features(atom) -> list[float]:
    """The feature row of one RDKit atom (`NUM_ATOM_FEATURES` values)."""
    return [
        *_one_hot(atom.GetSymbol(), ELEMENTS),
        *_one_hot(atom.GetDegree(), DEGREES),
        *_one_hot(atom.GetFormalCharge(), CHARGES),
        *_one_hot(atom.GetTotalNumHs(), HYDROGENS),
        *_one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS),
        float(atom.GetIsAromatic()),
        float(atom.IsInRing()),
    ]


NUM_ATOM_FEATURES = (
    len(ELEMENTS) + len(DEGREES) + len(CHARGES) + len(HYDROGENS) + len(HYBRIDIZATIONS) + 5 + 2
)


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
    except ImportError:
        raise ValidationError(
            "molecule data sets need RDKit to parse SMILES; install it with "
            "pip install 'tfgraphtune[chem]'."
        ) from None
    RDLogger.DisableLog("rdApp.*")  # Bad SMILES are reported in the data set's notes.
    return Chem


def molecules_to_graphs(
    smiles: list[str], targets: np.ndarray, *, where: str
) -> tuple[tuple[tfgnn.GraphTensor, ...], list[int]]:
    """Parses SMILES into one graph per molecule.

    Args:
      smiles: SMILES strings.
      targets: One float target per molecule.
      where: The file, for messages.

    Returns:
      ``(graphs, rows skipped)``: molecules RDKit cannot parse, or without atoms, are
      skipped and their row numbers returned (the caller reports them).
    """
    chem = _rdkit()
    features, graph_of_node, edges, bond_types, labels, skipped = [], [], [], [], [], []
    offset = 0
    for row, text in enumerate(smiles):
        molecule = chem.MolFromSmiles(str(text)) if isinstance(text, str) else None
        if molecule is None or molecule.GetNumAtoms() == 0:
            skipped.append(row)
            continue
        graph_index = len(labels)
        for atom in molecule.GetAtoms():
            features.append(atom_features(atom))
            graph_of_node.append(graph_index)
        for bond in molecule.GetBonds():
            begin, end = bond.GetBeginAtomIdx() + offset, bond.GetEndAtomIdx() + offset
            kind = BOND_TYPES.get(str(bond.GetBondType()), 0)
            edges += [(begin, end), (end, begin)]
            bond_types += [kind, kind]
        offset += molecule.GetNumAtoms()
        labels.append(float(targets[row]))
    graphs = graphs_from_flat_arrays(
        node_features=np.asarray(features, np.float32).reshape(-1, NUM_ATOM_FEATURES),
        graph_of_node=np.asarray(graph_of_node, np.int64),
        edges=np.asarray(edges, np.int64).reshape(-1, 2),
        labels=np.asarray(labels, np.float32),
        node_set="atom",
        edge_set="bond",
        edge_features={"bond_type": np.asarray(bond_types, np.int64)},
        where=where,
    )
    return graphs, skipped


def _csv_path(name: str, data_dir: str | os.PathLike | None) -> Path:
    file_name, url, _, _ = MOLECULENET_SETS[name]
    local = locations.resolve_data_dir(data_dir)
    if local is not None:
        for folder in (local / "moleculenet", local):
            if (folder / file_name).is_file():
                return folder / file_name
        raise ValidationError(
            f"{file_name} is not in {local}/moleculenet or {local}; copy it there, or unset "
            "--data-dir / $TFGRAPHTUNE_DATA_DIR to download it."
        )
    path = locations.cache_dir() / "moleculenet" / file_name
    if path.exists():
        locations.verify_recorded_checksum(path)
        return path
    return locations.download(url, path, None)


def load_moleculenet(name: str, data_dir: str | os.PathLike | None = None) -> GraphDataset:
    """Loads a MoleculeNet regression set as one graph per molecule.

    Args:
      name: ``esol``, ``freesolv`` or ``lipophilicity``.
      data_dir: Folder with local copies (``moleculenet/ESOL.csv``, ...); default
        ``$TFGRAPHTUNE_DATA_DIR``, else download into the cache.

    Returns:
      A `GraphDataset` with node set ``atom`` (feature ``feat``, `NUM_ATOM_FEATURES`
      wide), edge set ``bond`` (feature ``bond_type``) and the float context ``label``.

    Raises:
      ValidationError: Unknown name, missing/unreadable file or columns, RDKit missing.
    """
    if name not in MOLECULENET_SETS:
        raise ValidationError(
            f"unknown MoleculeNet set {name!r}; expected one of {sorted(MOLECULENET_SETS)}."
        )
    _, _, smiles_column, target_column = MOLECULENET_SETS[name]
    path = _csv_path(name, data_dir)
    try:
        frame = pd.read_csv(path)
    except Exception as err:  # pandas raises many types.
        raise ValidationError(f"cannot read {path}: {err}") from None
    missing = [c for c in (smiles_column, target_column) if c not in frame.columns]
    if missing:
        raise ValidationError(f"{path} lacks the column(s) {missing}; is it the {name} file?")
    targets = pd.to_numeric(frame[target_column], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(targets)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise ValidationError(
            f"{path}: rows {rows} have a non-numeric or non-finite {target_column!r}.", rows=rows
        )
    graphs, skipped = molecules_to_graphs(list(frame[smiles_column]), targets, where=str(path))
    notes = [f"{len(graphs)} molecules parsed by RDKit from {path.name}"]
    if skipped:
        notes.append(f"skipped {len(skipped)} rows RDKit cannot parse: rows {skipped[:10]}")
    return GraphDataset(
        name=name,
        graphs=graphs,
        schema=tfgnn.create_schema_pb_from_graph_spec(graphs[0].spec),
        node_set="atom",
        edge_set="bond",
        feature="feat",
        label="label",
        num_classes=0,
        notes=tuple(notes),
    )
