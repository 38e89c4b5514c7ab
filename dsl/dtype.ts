/** Element types of tiles and tensors. */
export type DType = 'f16' | 'bf16' | 'f32' | 'i32' | 'i64' | 'bool' | 'f8e4m3' | 'f8e5m2';

export const DTYPES: readonly DType[] = ['f16', 'bf16', 'f32', 'i32', 'i64', 'bool', 'f8e4m3', 'f8e5m2'];

export function isDType(name: string): name is DType {
  return (DTYPES as readonly string[]).includes(name);
}

export function isFloat(d: DType): boolean {
  return d === 'f16' || d === 'bf16' || d === 'f32' || d === 'f8e4m3' || d === 'f8e5m2';
}

export function isInt(d: DType): boolean {
  return d === 'i32' || d === 'i64';
}

/** fp8 types hold data but take no arithmetic. */
export function isStorageOnly(d: DType): boolean {
  return d === 'f8e4m3' || d === 'f8e5m2';
}

export function byteSize(d: DType): number {
  switch (d) {
    case 'f8e4m3':
    case 'f8e5m2':
    case 'bool':
      return 1;
    case 'f16':
    case 'bf16':
      return 2;
    case 'f32':
    case 'i32':
      return 4;
    case 'i64':
      return 8;
  }
}
