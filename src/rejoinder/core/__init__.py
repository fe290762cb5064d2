"""The pure domain core: no web framework, no SQL, no environment, no clock, no I/O."""
