"""The one exception the command line turns into a one-line error message, and the one that
stands for SIGTERM."""


class TwostepError(Exception):
    """Bad input: a broken config, a missing checkpoint, a malformed trial table.

    The CLI prints ``error: <message>`` and exits with status 2; library users
    catch it like any other exception.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP): the process is asked to stop, and stops as for Ctrl-C (the last
    checkpoint kept, no temporary file left); ``signal`` is the signal's number. A subclass
    of :class:`KeyboardInterrupt`, so every clean-up that Ctrl-C runs runs for it too."""

    def __init__(self, signal: int = 15):
        super().__init__(signal)
        self.signal = signal
