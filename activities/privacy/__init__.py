"""Side effects of exports and erasures: gathering, archiving, erasing, stopping workflows."""
