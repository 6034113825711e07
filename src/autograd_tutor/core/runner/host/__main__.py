"""`python -m autograd_tutor.core.runner.host FD [LISTEN_FD CAPS]`: the warm host process
(see serve.py); with a listening socket, the class's shared host (classroom.py)."""

from autograd_tutor.core.runner.host.serve import main

if __name__ == "__main__":
    main()
