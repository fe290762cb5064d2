"""A site's comments written out for another system or another Rejoinder: which comments
go and under which ids (`threads.py`), and one writer per format: Rejoinder's own import
format (`generic.py`) and WordPress's WXR (`wordpress.py`). Writers return text one thread
at a time, so an export of any size is written in bounded memory; they never open files.
"""
