t0=$(date +%s.%N); i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; t1=$(date +%s.%N)
echo 'int main(void){return 0;}' > /tmp/b.c; gcc -O2 -o /tmp/b /tmp/b.c; t2=$(date +%s.%N)
for j in $(seq 50); do /bin/true; done; t3=$(date +%s.%N)
awk -v a=$t0 -v b=$t1 -v c=$t2 -v d=$t3 'BEGIN{printf "shloop %.2fs gcc %.2fs 50xexec %.2fs\n", b-a, c-b, d-c}'
