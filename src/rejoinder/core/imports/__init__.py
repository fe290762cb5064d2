"""Comments brought in from other systems: the records every format's reader yields
(`records.py`), the rules that turn one thread of them into what is stored (`plan.py`),
and one reader per format (`wordpress.py`, `disqus.py`, `generic.py`, over `xmlstream.py`).

Readers take the file as an iterable of byte chunks and yield one thread at a time, so a
file of any size is read in bounded memory; they never open files themselves.
"""
