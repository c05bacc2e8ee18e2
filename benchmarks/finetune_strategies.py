"""Fine-tuning strategies with few labels on Cora, against training from scratch.

Pre-trained backbone: DGI (configs/pretrain_dgi_cora.yaml: GCN 1433 -> 512, PReLU), given
with --backbone or pre-trained here once (seed 0, --pretrain-epochs) and shared by all
seeds. Labels: per seed, `--labels-per-class` nodes per class drawn from the public
training split (20 per class); validation and test are the public 500 / 1000 nodes.

Every strategy uses the same model and protocol: the backbone architecture of the
checkpoint + a linear head (--head), dropout 0.5 on the input features and on the head's
input, Adam (--learning-rate, 0.001), at most --epochs (300) epochs, early stopping on
validation accuracy (--patience 50, best weights restored). At lr 0.01 every strategy that
moves the backbone drifts away from the pre-trained features before the head has fitted
(results/finetune_strategies_cora_k5_lr0.01_heuniform_lora.json: full 70.4, linear probe
75.5); 0.001 is the rate Hu et al. (2020) fine-tune pre-trained GNNs with. Reported: test
accuracy of the restored weights. ``scratch`` is ``full`` from a random initialisation of the
same architecture.
``lora`` starts its factors from the pre-trained kernel's top singular vectors (PiSSA, the
default ``finetune.lora_init``); ``lora_gaussian`` is Hu et al.'s random-A / zero-B init.
``trainable_fraction`` = trainable / all parameters of the model, head included (for
``gradual`` once every level has unfrozen).

    python benchmarks/finetune_strategies.py --dataset cora --labels-per-class 5 --seeds 5 \
        --json OUT.json
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import _common
import numpy as np

STRATEGIES = [
    "scratch",
    "linear_probe",
    "full",
    "gradual",
    "discriminative",
    "lora",
    "lora_gaussian",
    "adapter",
]
# Benchmark rows that are a strategy with other options: name -> (strategy, finetune options).
VARIANTS = {"scratch": ("full", {}), "lora_gaussian": ("lora", {"lora_init": "gaussian"})}


def few_label_split(dataset, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    train = np.asarray(dataset.splits["train"])
    labels = dataset.labels[train]
    chosen = [
        rng.choice(train[labels == c], per_class, replace=False) for c in range(dataset.num_classes)
    ]
    return np.sort(np.concatenate(chosen))


def _targets(accuracies: dict) -> dict:
    """The issue's bars, in points of mean accuracy: fine-tuned - scratch, lora - full."""
    mean = {name: 100 * float(np.mean(values)) for name, values in accuracies.items()}
    pairs = {
        "full_minus_scratch_points": ("full", "scratch"),
        "lora_minus_full_points": ("lora", "full"),
    }
    return {key: mean[a] - mean[b] for key, (a, b) in pairs.items() if a in mean and b in mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora"])
    parser.add_argument("--labels-per-class", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--backbone", default=None, help="pre-trained checkpoint folder")
    parser.add_argument("--pretrain-epochs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--head", default="linear", choices=["linear", "mlp", "gcn"])
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--patience", type=int, default=50)
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--adapter-units", type=int, default=32)
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import tfgraphtune  # noqa: F401
    from tfgraphtune.data.datasets.registry import load_dataset
    from tfgraphtune.finetune.report import before_after, strategy_table, to_markdown
    from tfgraphtune.models.checkpoint import read_pretrained
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    _common.set_threads(args.threads)
    start = time.perf_counter()
    backbone_path = args.backbone
    pretrain_time = None
    if backbone_path is None:
        backbone_path = str(Path(tempfile.mkdtemp()) / "dgi")
        pre_config = load_config(
            _common.REPO_ROOT / "configs" / "pretrain_dgi_cora.yaml",
            [f"data.data_dir={args.data_dir}", f"pretrain.epochs={args.pretrain_epochs}"],
        )
        _, meta = pretrain(pre_config, out=backbone_path)
        pretrain_time = meta["pretrain_time_s"]
        print(f"pre-trained DGI in {pretrain_time:.1f} s -> {backbone_path}", flush=True)
    pretrained, _, pretrain_meta = read_pretrained(backbone_path)

    base = load_config(
        None,
        [
            f"data.dataset={args.dataset}",
            f"data.data_dir={args.data_dir}",
            f"model.conv={pretrained['conv']}",
            f"model.hidden_units={pretrained['hidden_units']}",
            f"model.num_layers={pretrained['num_layers']}",
            f"model.activation={pretrained['activation']}",
            f"model.final_activation={pretrained['final_activation'] or 'null'}",
            "model.dropout=0.5",
            "model.sparse_inputs=true",
            "model.l2=0.0",
            f"model.head={args.head}",
            "model.head_dropout=0.5",
            f"train.epochs={args.epochs}",
            f"train.learning_rate={args.learning_rate}",
            f"train.early_stopping={{monitor: val_accuracy, patience: {args.patience}, mode: max}}",
            "train.tensorboard=false",
            f"finetune.lora_rank={args.lora_rank}",
            f"finetune.adapter_units={args.adapter_units}",
            "finetune.unfreeze_every=25",
        ],
    )
    dataset = load_dataset(args.dataset, args.data_dir)
    names = args.strategies.split(",")
    accuracies = {name: [] for name in names}
    fractions = {}
    for seed in range(args.seeds):
        splits = {**dataset.splits, "train": few_label_split(dataset, args.labels_per_class, seed)}
        few = dataclasses.replace(dataset, splits=splits)
        for name in names:
            strategy, options = VARIANTS.get(name, (name, {}))
            config = {
                **base,
                "train": {**base["train"], "seed": seed},
                "finetune": {
                    **base["finetune"],
                    **options,
                    "strategy": strategy,
                    "backbone": None if name == "scratch" else backbone_path,
                },
            }
            # The CLI's path (`tfgraphtune finetune`) on the few-label split.
            metrics = train(config, dataset=few, write=False).metrics
            accuracies[name].append(metrics["test"]["accuracy"])
            fractions[name] = metrics["trainable_fraction"]
            print(
                f"seed {seed} {name:>14}: test accuracy {accuracies[name][-1]:.4f}, "
                f"epochs {metrics['epochs_run']}, trainable {fractions[name]:.4f}",
                flush=True,
            )
    table = strategy_table(accuracies, fractions)
    results = {
        "benchmark": "finetune_strategies",
        "dataset": args.dataset,
        "labels_per_class": args.labels_per_class,
        "seeds": args.seeds,
        "head": args.head,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "patience": args.patience,
        "backbone": {"path": backbone_path, "config": pretrained, "pretrain": pretrain_meta},
        "pretrain_time_s": pretrain_time,
        "strategies": {
            name: {
                "accuracy_mean": float(np.mean(values)),
                "accuracy_std": float(np.std(values)),
                "accuracy_per_seed": values,
                "trainable_fraction": fractions[name],
            }
            for name, values in accuracies.items()
        },
        "targets": _targets(accuracies),
        "wall_s": time.perf_counter() - start,
        "threads": args.threads,
        **_common.machine(),
    }
    print(to_markdown(table))
    if all(name in accuracies for name in ("scratch", "linear_probe", "full")):
        print("\nbefore / after:")
        print(to_markdown(before_after(accuracies, fractions)))
    _common.report(
        results,
        args.json,
        [
            (
                name,
                f"{v['accuracy_mean']:.4f} ± {v['accuracy_std']:.4f} "
                f"(trainable {v['trainable_fraction']:.4f})",
            )
            for name, v in results["strategies"].items()
        ],
    )


if __name__ == "__main__":
    main()
