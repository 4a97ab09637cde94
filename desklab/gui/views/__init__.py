"""What the user sees and touches: the main window and its panels (palette, network
editor, inspector, training view, runs), dialogs and the compare window. Views call
the controllers' and the document's methods; they never change a design directly."""
