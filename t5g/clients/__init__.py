"""One thin wrapper per upstream: explicit timeouts, retries with backoff, validated results.

A client never touches the database; services call clients and write.
"""
