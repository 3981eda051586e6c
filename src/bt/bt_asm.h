/* bt_asm.h: offsets into struct bt_cpu and constants shared by C and bt_stubs.S. */
#ifndef TANDEM_BT_ASM_H
#define TANDEM_BT_ASM_H

#define CPU_GPR 0
#define CPU_ESP 16
#define CPU_EIP 32
#define CPU_HFLAGS 36
#define CPU_HOST_RSP 40
#define CPU_EXIT_REQ 48
#define CPU_JC 56
#define CPU_EXIT_TB 64
#define CPU_C_CALLOUT 72
#define CPU_CO_SITE 80
#define CPU_EXIT_REASON 84
#define CPU_DFSTEP 88
#define CPU_ARG 96
#define CPU_JUMP 104
#define CPU_IC 112
#define CPU_VBASE 120
#define CPU_JC_KEY 128
#define CPU_GJC 136
#define CPU_GJC_KEY 144

/* A callout's answer: continue in the block at cpu->jump. */
#define BT_ASM_CO_JUMP 0x100

#define BT_ASM_EXIT_CHAIN 1
#define BT_ASM_EXIT_MISS 2
#define BT_ASM_EXIT_KICK 3

/* The host flags translated code may load: arithmetic flags, DF, bit 1. */
#define BT_ASM_FLAGS_MASK 0xcd7

#endif
