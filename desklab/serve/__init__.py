"""`desklab serve`: a read-only HTTP view of a run store, for watching from another
machine (see `server`)."""
