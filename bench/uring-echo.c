/*
 * uring-echo.c - single-threaded io_uring echo server, the completion-model reference.
 *
 * Written on the raw system calls (no liburing): one io_uring_enter per loop iteration submits
 * every pending request and waits for at least one completion. Requests stay armed without
 * resubmission: one multishot accept for the listener, one multishot receive per connection
 * into a provided-buffer ring (IORING_REGISTER_PBUF_RING), and the echo is a send straight
 * from the received buffer, which goes back to the ring when the send completes. One send is
 * in flight per connection (a stream must not reorder); later buffers queue behind it.
 * The ring is SINGLE_ISSUER | DEFER_TASKRUN: completion work runs only inside our own enter.
 * System calls: one io_uring_enter per loop iteration, which serves every ready connection.
 *
 * usage: uring-echo PORT        (listens on 127.0.0.1:PORT)
 * Needs Linux 6.1+ (multishot accept/receive, buffer rings, DEFER_TASKRUN).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
#define BUF_COUNT 4096              /* power of two: the buffer ring's size */
#define BUF_SIZE 4096
#define BGID 1

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };
#define UD(op, fd) (((uint64_t)(op) << 32) | (uint32_t)(fd))

typedef struct {
    int recv_armed, send_busy, closing;
    int head, tail;                 /* queued buffer ids waiting to be sent, -1 when none */
    int starved;                    /* the receive ended with ENOBUFS: re-arm when buffers return */
} conn_t;

typedef struct { unsigned len, off; int next; } bufinfo_t;

static int ring_fd;
static unsigned *sq_tail, sq_mask, sq_local, sq_submitted;
static unsigned *cq_head, *cq_tail, cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static struct io_uring_buf_ring *br;
static char *bufs;
static bufinfo_t binfo[BUF_COUNT];
static unsigned short br_tail;
static conn_t *conns;
static int maxfd, lfd;
static int *starved_list, starved_count;
static unsigned batch_sends;        /* sends queued since the last enter */

static int enter(unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, ring_fd, submit, wait, flags, NULL, 0);
}

static void submit_pending(unsigned wait) {
    __atomic_store_n(sq_tail, sq_local, __ATOMIC_RELEASE);
    unsigned n = sq_local - sq_submitted;
    int r = enter(n, wait, IORING_ENTER_GETEVENTS);
    if (r < 0) {
        if (errno == EINTR || errno == EBUSY || errno == ETIME) return;
        perror("io_uring_enter"); exit(1);
    }
    sq_submitted += (unsigned)r;
}

static struct io_uring_sqe *sqe_get(void) {
    if (sq_local - sq_submitted == SQ_ENTRIES) submit_pending(0);
    struct io_uring_sqe *s = &sqes[sq_local & sq_mask];
    memset(s, 0, sizeof *s);
    sq_local++;
    return s;
}

static void buf_return(int bid) {
    struct io_uring_buf *b = &br->bufs[br_tail & (BUF_COUNT - 1)];
    b->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUF_SIZE);
    b->len = BUF_SIZE;
    b->bid = (unsigned short)bid;
    br_tail++;
    __atomic_store_n(&br->tail, br_tail, __ATOMIC_RELEASE);
}

static void arm_accept(void) {
    struct io_uring_sqe *s = sqe_get();
    s->opcode = IORING_OP_ACCEPT;
    s->fd = lfd;
    s->ioprio = IORING_ACCEPT_MULTISHOT;
    s->accept_flags = SOCK_NONBLOCK;
    s->user_data = UD(OP_ACCEPT, lfd);
}

static void arm_recv(int fd) {
    struct io_uring_sqe *s = sqe_get();
    s->opcode = IORING_OP_RECV;
    s->fd = fd;
    s->ioprio = IORING_RECV_MULTISHOT;
    s->flags = IOSQE_BUFFER_SELECT;
    s->buf_group = BGID;
    s->user_data = UD(OP_RECV, fd);
    conns[fd].recv_armed = 1;
}

static void start_send(int fd, int bid) {
    struct io_uring_sqe *s = sqe_get();
    s->opcode = IORING_OP_SEND;
    s->fd = fd;
    s->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUF_SIZE + binfo[bid].off);
    s->len = binfo[bid].len - binfo[bid].off;
    s->msg_flags = MSG_NOSIGNAL;
    s->user_data = UD(OP_SEND, fd) | ((uint64_t)bid << 40);
    conns[fd].send_busy = 1;
    batch_sends++;
}

static void maybe_close(int fd) {
    conn_t *c = &conns[fd];
    if (c->closing && !c->recv_armed && !c->send_busy) {
        while (c->head >= 0) { int b = c->head; c->head = binfo[b].next; buf_return(b); }
        close(fd);
        memset(c, 0, sizeof *c);
        c->head = c->tail = -1;
    }
}

static void fail(int fd) {
    conn_t *c = &conns[fd];
    if (!c->closing) {
        c->closing = 1;
        shutdown(fd, SHUT_RDWR);   /* ends the armed receive, so the descriptor can close */
    }
    maybe_close(fd);
}

static void on_recv(int fd, int res, unsigned flags) {
    conn_t *c = &conns[fd];
    if (!(flags & IORING_CQE_F_MORE)) c->recv_armed = 0;
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
        int bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
        if (c->closing) { buf_return(bid); }
        else {
            binfo[bid].len = (unsigned)res; binfo[bid].off = 0; binfo[bid].next = -1;
            if (!c->send_busy) start_send(fd, bid);
            else { if (c->tail >= 0) binfo[c->tail].next = bid; else c->head = bid; c->tail = bid; }
        }
    }
    if (!c->recv_armed) {
        if (res == -ENOBUFS && !c->closing) { if (!c->starved) { c->starved = 1; starved_list[starved_count++] = fd; } }
        else if (res > 0 && !c->closing) arm_recv(fd);   /* the kernel ended it early */
        else fail(fd);                                   /* 0 (EOF) or an error */
    }
}

static void on_send(int fd, int bid, int res) {
    conn_t *c = &conns[fd];
    c->send_busy = 0;
    if (res < 0 || c->closing) { buf_return(bid); fail(fd); return; }
    binfo[bid].off += (unsigned)res;
    if (binfo[bid].off < binfo[bid].len) { start_send(fd, bid); return; }
    buf_return(bid);
    if (c->head >= 0) {
        int next = c->head;
        c->head = binfo[next].next;
        if (c->head < 0) c->tail = -1;
        start_send(fd, next);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    maxfd = (int)rl.rlim_cur;
    conns = calloc((size_t)maxfd, sizeof(conn_t));
    starved_list = calloc((size_t)maxfd, sizeof(int));
    for (int i = 0; i < maxfd; i++) conns[i].head = conns[i].tail = -1;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
    if (listen(lfd, 65535) < 0) { perror("listen"); return 1; }

    struct io_uring_params p = { 0 };
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = CQ_ENTRIES;
    ring_fd = (int)syscall(__NR_io_uring_setup, SQ_ENTRIES, &p);
    if (ring_fd < 0) { perror("io_uring_setup"); return 1; }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (cq_size > sq_size) sq_size = cq_size;   /* IORING_FEAT_SINGLE_MMAP (5.4+) */
    char *rings = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
    sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
    if (rings == MAP_FAILED || sqes == MAP_FAILED) { perror("mmap"); return 1; }
    sq_tail = (unsigned *)(rings + p.sq_off.tail);
    sq_mask = *(unsigned *)(rings + p.sq_off.ring_mask);
    unsigned *array = (unsigned *)(rings + p.sq_off.array);
    for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
    sq_local = sq_submitted = *sq_tail;
    cq_head = (unsigned *)(rings + p.cq_off.head);
    cq_tail = (unsigned *)(rings + p.cq_off.tail);
    cq_mask = *(unsigned *)(rings + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(rings + p.cq_off.cqes);

    br = mmap(NULL, BUF_COUNT * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (br == MAP_FAILED || bufs == MAP_FAILED) { perror("mmap buffers"); return 1; }
    struct io_uring_buf_reg reg = { .ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = BUF_COUNT, .bgid = BGID };
    if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) { perror("IORING_REGISTER_PBUF_RING"); return 1; }
    for (int i = 0; i < BUF_COUNT; i++) buf_return(i);

    arm_accept();
    fprintf(stderr, "uring-echo listening on 127.0.0.1:%s\n", argv[1]);

    for (;;) {
        /* Sends mostly complete inline during the submit; waiting for one completion more than
         * the sends just queued makes the same enter also wait for the next receive, so a
         * ping-pong costs one system call per iteration, not two. Every send completes, and
         * with none queued this is the plain wait for one completion. */
        unsigned wait = batch_sends + 1;
        batch_sends = 0;
        submit_pending(wait);
        unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            struct io_uring_cqe *e = &cqes[head & cq_mask];
            uint64_t ud = e->user_data;
            int op = (int)((ud >> 32) & 0xff), fd = (int)(uint32_t)ud;
            if (op == OP_ACCEPT) {
                if (e->res >= 0) {
                    int c = e->res;
                    if (c >= maxfd) close(c);
                    else { setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); arm_recv(c); }
                }
                if (!(e->flags & IORING_CQE_F_MORE)) arm_accept();
            } else if (op == OP_RECV) {
                on_recv(fd, e->res, e->flags);
            } else if (op == OP_SEND) {
                on_send(fd, (int)(ud >> 40), e->res);
            }
        }
        __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
        /* Buffers came back this pass: receives that ran dry may go again. */
        int n = starved_count; starved_count = 0;
        for (int i = 0; i < n; i++) {
            int fd = starved_list[i];
            conns[fd].starved = 0;
            if (!conns[fd].closing) arm_recv(fd);
        }
    }
}
