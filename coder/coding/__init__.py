"""Coding: the codes coders confirm, alone or as a team.

codings.py (apply, import and export codes, audited), session.py (a coder's session, no UI),
queue.py (the "teaches most" order), team.py (assignments, blind codes, adjudication),
agreement.py (the statistics between coders), history.py (the audit log: log, undo, backup).
"""
