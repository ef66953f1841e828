// The program each layer check links (src/CMakeLists.txt, src/meson.build): nothing but one
// library taken whole and the libraries below it, so that a call from that library into a
// layer above it is an undefined reference at link time.
int main() {
    return 0;
}
