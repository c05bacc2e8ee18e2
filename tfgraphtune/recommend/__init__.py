"""Recommendation on user-item interaction graphs: data, splits, models, training, ranking.

Public names load on first use, so importing this package does not import TensorFlow.
"""

_LAZY = {
    "Interactions": "tfgraphtune.recommend.interactions",
    "read_interaction_table": "tfgraphtune.recommend.interactions",
    "read_movielens_100k": "tfgraphtune.recommend.movielens",
    "download_movielens_100k": "tfgraphtune.recommend.movielens",
    "RecommendationSplit": "tfgraphtune.recommend.splits",
    "random_split": "tfgraphtune.recommend.splits",
    "time_split": "tfgraphtune.recommend.splits",
    "fixed_split": "tfgraphtune.recommend.splits",
    "evaluate_rankings": "tfgraphtune.recommend.evaluation",
    "top_k": "tfgraphtune.recommend.evaluation",
    "LightGCN": "tfgraphtune.recommend.lightgcn",
    "MatrixFactorization": "tfgraphtune.recommend.matrix_factorization",
    "Popularity": "tfgraphtune.recommend.popularity",
    "EmbeddingRecommender": "tfgraphtune.recommend.base",
    "bpr_loss": "tfgraphtune.recommend.losses",
    "sample_negatives": "tfgraphtune.recommend.negatives",
    "simgcl_loss": "tfgraphtune.recommend.contrastive",
    "pretrain_contrastive": "tfgraphtune.recommend.contrastive",
    "fit_recommender": "tfgraphtune.recommend.trainer",
    "synthetic_interactions": "tfgraphtune.recommend.synthetic",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tfgraphtune.recommend' has no attribute {name!r}")
