"""Remote fine-tuning of Pix2Struct: dataset conversion, metrics and the training run (see training/PROTOCOL.md)."""
