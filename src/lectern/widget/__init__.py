"""The embeddable chat widget: its static files (a JS client and the <lectern-chat> element), and the demo book."""
