"""`python -m autograd_tutor.core.runner.host FD`: the warm host process (see serve.py)."""

from autograd_tutor.core.runner.host.serve import main

if __name__ == "__main__":
    main()
