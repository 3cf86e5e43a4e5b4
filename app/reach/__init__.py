"""The customer's way back: the address they leave, what is sent to it, contacts, privacy.

A pure domain package (no blueprint): the widget, the inbox, the admin pages and jobs call it.
"""
