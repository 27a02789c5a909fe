"""Tests of deid.report (the audit report)."""
