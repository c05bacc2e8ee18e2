"""Graph data: schemas, tables and data sets to validated GraphTensors."""
