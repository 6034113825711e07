"""How long the client waits on the worker's processes (seconds), and what it says past that.

Every wait on another process has a deadline. Past one, that process is taken for dead: it
is killed, and the caller hears so in words instead of waiting for ever. Read as
`deadlines.NAME` at the time of the wait, so a test may shorten one.
"""

READY_SECONDS = 180.0  # the host's `import torch` (about 1 s; far more on a loaded machine)
FORK_SECONDS = 60.0  # host and relay answering a new session (the host may be mid-import)
ASK_SECONDS = 15.0  # inspect and graph: they read the namespace, they run no code
SEND_SECONDS = 10.0  # a request that cannot even be written
ANSWER_SLACK = 10.0  # beyond the relay's own deadlines, before the client gives up on it
CLOSE_SECONDS = 0.3  # on quit, what the host gets to end its sessions before it is killed
STOPPED_ANSWERING = "the worker stopped answering; its session was ended"
