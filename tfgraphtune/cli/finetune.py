"""``tfgraphtune finetune``: train a task head (and backbone) from a YAML config."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.errors import UserError
from tfgraphtune.cli.main import add_data_dir_argument, add_override_argument, config_overrides


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="train a model for a task from a YAML config and write a run folder",
        description="Flags override config keys; --set section.key=value overrides any key.",
    )
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    parser.add_argument("--dataset", help="overrides data.dataset")
    parser.add_argument("--task", help="overrides task")
    parser.add_argument("--epochs", type=int, help="overrides train.epochs")
    parser.add_argument("--seed", type=int, help="overrides train.seed")
    parser.add_argument("--out", help="run folder to write (overrides out)")
    parser.add_argument(
        "--backbone", help="pre-trained backbone checkpoint (tfgraphtune pretrain --out)"
    )
    parser.add_argument(
        "--strategy",
        help="fine-tuning strategy (overrides finetune.strategy): full, linear_probe, top_k, "
        "gradual, discriminative, lora, adapter, l2sp",
    )
    parser.add_argument(
        "--resume",
        help="continue a fine-tuned run folder on the config's (new) data (finetune.resume)",
    )
    add_override_argument(parser, "model.hidden_units=32")
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def collect_overrides(args: argparse.Namespace) -> list[str]:
    """Turns the shortcut flags into ``key=value`` overrides, before the --set ones."""
    return config_overrides(
        args,
        {
            "data.dataset": args.dataset,
            "task": args.task,
            "train.epochs": args.epochs,
            "train.seed": args.seed,
            "out": args.out,
            "data.data_dir": args.data_dir,
            "finetune.backbone": getattr(args, "backbone", None),
            "finetune.strategy": getattr(args, "strategy", None),
            "finetune.resume": getattr(args, "resume", None),
        },
    )


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.training.runner import train

    try:
        config = load_config(args.config, collect_overrides(args))
        finetune = config["finetune"]
        if finetune["backbone"] or finetune["resume"] or finetune["strategy"] != "full":
            if config["task"] != "node_classification":
                raise ConfigError(
                    f"--backbone/--strategy/--resume support task node_classification; the "
                    f"config's task is {config['task']!r}."
                )
            from tfgraphtune.finetune.runner import finetune_node_classification

            metrics = finetune_node_classification(config)
        else:
            metrics = train(config)
    except (ConfigError, ValueError, FileNotFoundError) as err:
        raise UserError(str(err)) from None
    print(json.dumps(metrics, indent=2))
    print(f"run folder: {config['out']}")
    return 0
