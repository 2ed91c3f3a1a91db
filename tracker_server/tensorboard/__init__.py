"""Reading TensorBoard logdirs: TFRecord event files (``records``) and the summaries in them (``events``)."""
