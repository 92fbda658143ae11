"""Local servers on 127.0.0.1 that stand in for parties the platform talks to but tests cannot reach."""
