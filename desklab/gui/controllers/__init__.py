"""What the app does, without drawing it: the open document and its undo stack, the
training and side-by-side controllers and their threads, autosave, exports."""
