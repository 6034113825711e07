"""autograd-tutor: learn PyTorch autograd in the terminal."""

__version__ = "0.1.0"
