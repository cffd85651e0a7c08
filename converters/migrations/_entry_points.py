"""``aiida.calculations`` entry points known when 0.3 archives were migrated (0.3 -> 0.4, sub-step 6a).

The names of aiida-core's hard-coded registry list
(``registered_calculation_entry_points`` in its database-integrity module),
plus aiida-core's own built-in plugins.  aiida-core also consults locally
installed plugins, which makes its result depend on the machine; reportgen
uses this fixed list only, so the result is the same everywhere.
"""

CALCULATION_ENTRY_POINTS = frozenset(
    """
    arithmetic.add templatereplacer
    ase.ase castep.bs castep.castep castep.pot1d castep.spec castep.ts
    codtools.cifcellcontents codtools.cifcodcheck codtools.cifcoddeposit codtools.cifcodnumbers
    codtools.ciffilter codtools.cifsplitprimitive cp2k crystal17.basic crystal17.immigrant crystal17.main
    ddec diff dynaphopy gollum.gollum gudhi.rdm kkr.kkr kkr.kkrimp kkr.kkrimporter kkr.voro
    lammps.combinate lammps.force lammps.md lammps.optimize nwchem.basic nwchem.pymatgen
    phonopy.phono3py phonopy.phonopy phtools.dmatrix phtools.surface qeq.eqeq qeq.qeq
    quantumespresso.cp quantumespresso.dos quantumespresso.hp quantumespresso.matdyn
    quantumespresso.namelists quantumespresso.neb quantumespresso.ph quantumespresso.pp
    quantumespresso.projwfc quantumespresso.pw quantumespresso.pw2wannier90
    quantumespresso.pwimmigrant quantumespresso.q2r raspa siesta.siesta siesta.stm
    vasp.vasp vasp.vasp2w90 wannier90.wannier90 yambo.yambo zeopp.network
    """.split()
)
