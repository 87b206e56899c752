"""The parts of the certificate stack, one construct per concern."""
