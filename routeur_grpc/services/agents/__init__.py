"""Agents: LangGraph workflows that orchestrate model calls (and tools) to answer.

Each agent is a compiled graph in its own module, registered in `catalog.py`. The runner
(`runner.py`) runs the graph named by a completion's `agent`, turns the text its nodes write
(`get_stream_writer`) into completion chunks as it is produced, and closes the request's
accounting over every model call the graph made.
"""
