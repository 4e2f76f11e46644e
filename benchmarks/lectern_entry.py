"""Lectern's app as Vercel imports it: one module exposing `app`."""

from lectern.app import create_app

app = create_app()
