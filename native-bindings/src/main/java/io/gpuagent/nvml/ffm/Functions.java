package io.gpuagent.nvml.ffm;

/** Every handle table, bound from one opened library. */
final class Functions {
    final SystemFunctions system;
    final DeviceIdentityFunctions identity;
    final MemoryFunctions memory;
    final ThermalFunctions thermal;
    final PowerFunctions power;
    final ClockFunctions clocks;
    final PcieFunctions pcie;
    final EccFunctions ecc;
    final NvLinkFunctions nvlink;
    final ProcessFunctions processes;
    final FieldFunctions fields;
    final EventFunctions events;
    final GpmFunctions gpm;
    final ControlFunctions control;
    final MigFunctions mig;

    Functions(NvmlLibrary lib) {
        system = new SystemFunctions(lib);
        identity = new DeviceIdentityFunctions(lib);
        memory = new MemoryFunctions(lib);
        thermal = new ThermalFunctions(lib);
        power = new PowerFunctions(lib);
        clocks = new ClockFunctions(lib);
        pcie = new PcieFunctions(lib);
        ecc = new EccFunctions(lib);
        nvlink = new NvLinkFunctions(lib);
        processes = new ProcessFunctions(lib);
        fields = new FieldFunctions(lib);
        events = new EventFunctions(lib);
        gpm = new GpmFunctions(lib);
        control = new ControlFunctions(lib);
        mig = new MigFunctions(lib);
    }
}
