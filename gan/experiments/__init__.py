"""Measurements that write JSON and PNG results next to themselves (see each script)."""
