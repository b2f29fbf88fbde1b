from .config import (apply_data_root, fill_from_checkpoint, fill_model_dims,
                     load_checkpoint_meta)

__all__ = ['apply_data_root', 'fill_model_dims', 'fill_from_checkpoint',
           'load_checkpoint_meta']
