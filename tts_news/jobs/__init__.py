"""Jobs: the library of records, the queue, the service that submits, the worker that renders, the streams."""
