/** First free byte after static data: the engine lays its arena out from here. */
export function heapBase(): usize {
  return __heap_base;
}
