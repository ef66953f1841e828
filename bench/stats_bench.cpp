// placeholder: replaced by the part that owns this file
int main() {
    return 0;
}
