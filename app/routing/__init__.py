"""Routing: which team a new conversation goes to, and which online agent in it."""
