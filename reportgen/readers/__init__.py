"""Readers: the data_store's files -> frozen records (``reportgen.records``).

``datastore`` scans and assembles, ``hdf5`` is the only h5py importer, ``git``
the only git caller, ``logs`` reads node logs, ``sandbox`` runs the HDF5 part in
sandboxed worker processes.  Nothing above this package touches h5py or git.
"""
