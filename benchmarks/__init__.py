"""Speed measurements that print JSON; never part of the test run."""
