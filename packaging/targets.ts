/** The executables we build, and what each needs from this machine. */
export type Arch = 'x64' | 'arm64';

export interface Target {
  arch: Arch;
  /** ELF e_machine of binaries for this target, to check what the compiler produced. */
  elfMachine: number;
  /** Cross tools when the build machine is not this arch (Debian's names). */
  cross: { cc: string; cxx: string; ar: string; strip: string; debianPackage: string } | null;
  /** How to run this target's programs on the build machine, or null when it cannot. */
  emulator: { command: string; args: string[]; debianPackage: string } | null;
}

export function parseArch(raw: string): Arch {
  if (raw === 'x64' || raw === 'arm64') return raw;
  throw new Error(`unknown --arch "${raw}": use x64 or arm64`);
}

export function target(arch: Arch, host: string = process.arch): Target {
  const native = arch === host;
  if (arch === 'x64') {
    if (!native) throw new Error('x64 executables are built on an x64 machine (no cross toolchain is set up for that direction)');
    return { arch, elfMachine: 0x3e, cross: null, emulator: null };
  }
  return {
    arch,
    elfMachine: 0xb7,
    cross: native
      ? null
      : { cc: 'aarch64-linux-gnu-gcc', cxx: 'aarch64-linux-gnu-g++', ar: 'aarch64-linux-gnu-ar', strip: 'aarch64-linux-gnu-strip', debianPackage: 'g++-aarch64-linux-gnu' },
    // qemu-user runs arm64 Linux programs here; -L points it at the cross toolchain's libraries.
    emulator: native ? null : { command: 'qemu-aarch64-static', args: ['-L', '/usr/aarch64-linux-gnu'], debianPackage: 'qemu-user-static' },
  };
}

/** The ELF machine of a binary's header (offset 18, little-endian). */
export function elfMachine(header: Uint8Array): number {
  if (header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) return -1;
  return header[18]! | (header[19]! << 8);
}
