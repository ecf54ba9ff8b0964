"""The one exception the command line turns into a one-line error message."""


class TwostepError(Exception):
    """Bad input: a broken config, a missing checkpoint, a malformed trial table.

    The CLI prints ``error: <message>`` and exits with status 2; library users
    catch it like any other exception.
    """
