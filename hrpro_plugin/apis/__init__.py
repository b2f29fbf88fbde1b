from .config import (add_runner_args, apply_data_root, apply_runner_args,
                     close_distributed,
                     fill_from_checkpoint, fill_model_dims,
                     load_checkpoint_meta)
from .inference import (collect_feature_files, config_snippet_seconds,
                        inference_localizer, init_localizer, load_features,
                        localizer_outputs)

__all__ = [
    'add_runner_args', 'apply_runner_args', 'close_distributed', 'apply_data_root',
    'fill_model_dims', 'fill_from_checkpoint', 'load_checkpoint_meta',
    'init_localizer', 'inference_localizer', 'collect_feature_files',
    'load_features', 'config_snippet_seconds', 'localizer_outputs'
]
