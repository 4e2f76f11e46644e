"""Deploying Lectern to Vercel, and a local emulator of Vercel's REST API for tests."""
