"""shipflow's benchmarks (``make bench``), outside the package: each module prints its
figures beside their goal and a baseline measured in the same run. See docs/performance.md."""
