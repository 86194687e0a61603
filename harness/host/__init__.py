"""What the machine provides: free ports held by lock, process groups, checked variables."""
