/* A shared library that defines no malloc: named as an allocator, it must be refused. */
int not_an_allocator_version(void);
int not_an_allocator_version(void) {
  return 1;
}
