"""The static run catalog: data_store records -> page contexts -> HTML -> a site folder.

``build.build_site`` is the pipeline; every other module is one stage of it.
"""
