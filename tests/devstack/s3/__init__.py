"""Tests of the local S3 endpoint."""
